def test_me_answers_with_the_token_identity(api, customer):
    response = api.get("/api/me")
    assert response.status_code == 200
    assert response.json() == {"id": str(customer.id), "email": customer.email, "tier": "pro_plus"}


def test_every_flag_exists_off_after_migrate(db):
    from waffle.models import Flag

    from flags.registry import FLAGS

    assert {f.name: f.everyone for f in Flag.objects.all()} == {name: None for name in FLAGS}
