import warnings, traceback
from conftest import new_uuid

def test_warn(api, demo):
    api.login("tech1", device="a")
    dev_a = api.devices["tech1"]
    pulled = api.get("/api/v1/sync/pull", as_="tech1").get_json()
    job = pulled["changes"]["jobs"][0]["id"]
    from sync import engine
    orig = engine.lock_device
    def spy(session, device_id):
        print("in_transaction", session().in_transaction())
        return orig(session, device_id)
    engine.lock_device = spy
    for k in range(3):
        muts = [{"seq": 3*k+i, "id": new_uuid(), "type": "job.note", "job_id": job, "args": {"text": "hi"}} for i in (1,2,3)]
        r = api.post("/api/v1/sync/push", as_="tech1", json={"device_id": dev_a, "mutations": muts})
    engine.lock_device = orig
