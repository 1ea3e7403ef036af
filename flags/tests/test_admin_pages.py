import re

import pytest
from waffle.models import Flag

from flags.registry import FLAGS

pytestmark = pytest.mark.django_db

URL = "/admin/flags/registry/"


def live_rows(html: str) -> list[str]:
    return re.findall(r'<tr class="live" data-live="1">\s*<td>(\w+)</td>\s*<td>(\w+)</td>', html)


def test_anonymous_is_sent_to_the_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_registry_page_lists_every_flag_with_its_spec_and_state(admin_client):
    html = admin_client.get(URL).content.decode()
    for name, spec in FLAGS.items():
        assert f'id="flag-{name}"' in html
        assert spec.purpose in html.replace("&#x27;", "'")
    assert html.count('class="flag-state off"') >= len(FLAGS)


def test_matrix_highlights_the_live_cell(admin_client, flags):
    assert live_rows(admin_client.get(URL).content.decode()) == [("OFF", "OFF")]
    flags.on("FLAG_BETA_WALKTHROUGH_SELF_SELECT")
    assert live_rows(admin_client.get(URL).content.decode()) == [("ON", "OFF")]
    flags.on("FLAG_WALKTHROUGH_PERSONA_ROUTING")
    assert live_rows(admin_client.get(URL).content.decode()) == [("ON", "ON")]


def test_matrix_shows_both_rows_for_a_partial_rollout(admin_client, flags):
    flags.on("FLAG_BETA_WALKTHROUGH_SELF_SELECT")
    Flag.objects.filter(name="FLAG_WALKTHROUGH_PERSONA_ROUTING").update(percent=10)
    html = admin_client.get(URL).content.decode()
    assert live_rows(html) == [("ON", "OFF"), ("ON", "ON")]
    assert "ON for 10" in html


def test_admin_index_links_the_operations_pages(admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert URL in html and "/admin/django_celery_beat/periodictask/" in html


@pytest.mark.parametrize("url", ["/admin/", URL, "/admin/waffle/flag/", "/admin/django_celery_beat/periodictask/",
                                 "/admin/raxx/auditevent/", "/admin/raxx/customer/"])
def test_operator_pages_answer(admin_client, client, url):
    assert admin_client.get(url).status_code == 200
