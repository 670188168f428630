"""After the repair: the back-up's registration as a main server was deleted through the device API
before the main's first start, so the main's capability request registered the pair at once."""

from conftest import BACKUP, MAIN, server_events


def test_wrong_registration_deleted_before_the_main_registered_the_pair(lab):
    events = lab.events()
    bo = [e for e in events if e.get("source") == "backoffice"]
    backup_id, main_id = lab.hostid(BACKUP), lab.hostid(MAIN)
    careless = [e for e in bo if e["event"] == "capability_request" and e.get("hostid") == backup_id
                and e["result"] == "ok" and e.get("changed")]
    assert len(careless) == 1                      # the back-up's start ahead of its main
    deleted = [e for e in bo if e["event"] == "device_delete"]
    assert [e.get("device_id") for e in deleted] == [careless[0]["device_id"]]
    main_start = server_events(events, MAIN, "start")[0]
    assert careless[0]["ts"] < deleted[0]["ts"] < main_start["ts"]
    main_requests = [e for e in bo if e["event"] == "capability_request" and e.get("hostid") == main_id]
    assert main_requests and all(e["result"] == "ok" for e in main_requests)
    assert main_requests[0]["backup_hostid"] == backup_id and main_requests[0]["changed"]
    assert main_requests[0]["device_id"] != careless[0]["device_id"]
