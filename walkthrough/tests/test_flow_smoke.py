from walkthrough.tests.conftest import IC_LEGS, PERSONA, SURVEY


def test_smoke_ss_off_pr_off(tester, cell):
    progress, c, token = tester
    cell(False, False)
    r = c.get("/api/walkthrough/screen/1"); print(r.json()); assert r.status_code == 200
    r = c.post("/api/walkthrough/screen/1", {"answers": PERSONA}, format="json"); print(r.json()); assert r.status_code == 200
    r = c.get("/api/walkthrough/screen/2"); assert r.status_code == 200, r.json()
    r = c.post("/api/walkthrough/screen/2", {}, format="json"); assert r.status_code == 200, r.json()
    r = c.get("/api/walkthrough/screen/3"); assert r.status_code == 200, r.json()
    r = c.post("/api/walkthrough/screen/3", {"legs": IC_LEGS}, format="json"); print(r.json()); assert r.status_code == 201
    r = c.post("/api/walkthrough/screen/4", {}, format="json"); assert r.status_code == 200, r.json()
    r = c.post("/api/walkthrough/screen/5", {"answers": SURVEY}, format="json"); print(r.json()); assert r.status_code == 200
