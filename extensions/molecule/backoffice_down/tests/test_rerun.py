"""The rerun once the back office was back: the main's back-office contact came only after the fault
was cleared, and the back-up's start only after that contact (the shared tests check the latter)."""

from conftest import MAIN, server_events


def test_main_contact_confirmed_only_once_the_back_office_answered(lab):
    events = lab.events()
    dropped = [e for e in events if e.get("event") == "capability_request" and e.get("code") == "DROPPED"]
    contacts = server_events(events, MAIN, "bo_contact", "ok")
    assert dropped and contacts
    assert contacts[0]["ts"] > dropped[-1]["ts"]
