from conftest import *
from tests.api.test_jobs_api import *
def test_x(api, demo):
    job = tech_jobs(api, demo)["repair"]
    sync_push(api, "tech1", [("job.status", job["id"], {"status": "en_route"}),
          ("job.status", job["id"], {"status": "unsuccessful", "reason": "x"})])
    r = patch(api, job["id"], scheduled_start=SH_TOMORROW_10)
    print(r.status_code, r.get_json())
