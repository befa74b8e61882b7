"""A mutation id another user's mutation already holds: refused, the queue moves on, and a
replay of that seq answers from the log (never a server error that blocks the phone)."""
from tests.support.synckit import Phone, job_of_type, statuses


def test_an_id_taken_by_another_user_is_rejected_and_does_not_block(client, demo):
    tech1, tech2 = Phone(client, "tech1"), Phone(client, "tech2")
    job1, job2 = job_of_type(tech1, "repair"), job_of_type(tech2, "repair")
    taken = tech2.note(job2["id"], "tech2's note")
    assert statuses(tech2.push([taken])) == {1: "applied"}

    clash = tech1.note(job1["id"], "same id, other user", id=taken["id"])
    after = tech1.note(job1["id"], "the next one")
    answer = tech1.push([clash, after])
    assert statuses(answer) == {1: "rejected", 2: "applied"}
    assert answer["results"][0]["reason"] == "mutation_id_taken"
    assert answer["last_seq"] == 2

    replay = tech1.push([clash])
    assert replay["results"][0]["status"] == "duplicate"
    assert replay["results"][0]["original_status"] == "rejected"
