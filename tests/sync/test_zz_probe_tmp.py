import threading
from conftest import new_uuid

def test_race(app, api, demo):
    import warnings
    from sqlalchemy.exc import SAWarning
    warnings.simplefilter("error", SAWarning)
    api.login("tech1", device="a")
    dev = api.devices["tech1"]; tok = api.tokens["tech1"]
    job = api.get("/api/v1/sync/pull", as_="tech1").get_json()["changes"]["jobs"][0]["id"]
    errors, codes = [], []
    from sync import engine
    orig = engine.lock_device
    def spy(session, device_id):
        if session().in_transaction():
            print("IN TX", "".join(traceback.format_stack()[-4:-1]))
        return orig(session, device_id)
    pass  # engine.lock_device = spy
    import traceback
    seq = [0]
    for round_ in range(100):
        muts = [{"seq": seq[0] + i + 1, "id": new_uuid(), "type": "job.note", "job_id": job, "args": {"text": "x"}} for i in range(3)]
        seq[0] += 3
        def go():
            c = app.test_client()
            try:
                r = c.post("/api/v1/sync/push", json={"device_id": dev, "mutations": muts}, headers={"Authorization": "Bearer " + tok})
                codes.append(r.status_code)
            except Exception as e:
                import traceback; errors.append("".join(l for l in traceback.format_exc().splitlines(True) if "work/main/sync" in l or "work/main/fieldapp" in l or "line " in l and "site-packages" not in l))
        ts = [threading.Thread(target=go) for _ in range(2)]
        [t.start() for t in ts]; [t.join() for t in ts]
    print(sorted(set(codes)), len(errors), errors[:2])
