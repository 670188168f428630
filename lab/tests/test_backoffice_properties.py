"""Property tests of the back office's request handling, without sockets."""

from __future__ import annotations

import io
import json
from email.message import Message

from hypothesis import HealthCheck, given, settings, strategies as st

from fnlslab.backoffice import BackOfficeApp, RegistrationError, Request, parse_hostid

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12)
hostish = st.one_of(
    st.text(max_size=40),
    st.builds(lambda v, t: f"{v}/{t}", st.text(alphabet="0123456789abcdefABCDEF:-.", max_size=70),
              st.sampled_from(["ETHERNET", "ethernet", "VM_UUID", "CONTAINER_ID", "FLEXID9", "FLEXID10",
                               "INTERNET", "INTERNET6", "STRING", "USER", "EXTENDED", "PUBLISHER_DEFINED",
                               "NOPE"])))


def post(app, path, body: bytes, content_type="application/json"):
    headers = Message()
    headers["Content-Type"] = content_type
    headers["Content-Length"] = str(len(body))
    return app.handle(Request("POST", path, headers, io.BytesIO(body)))


@given(hostish)
def test_parse_hostid_is_idempotent(text):
    try:
        canonical = parse_hostid(text)
    except RegistrationError as exc:
        assert exc.code == "INVALID_HOSTID"
        return
    assert parse_hostid(canonical) == canonical
    assert canonical.rpartition("/")[2].isupper()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(json_values, st.fixed_dictionaries({"hostid": hostish, "backupHostid": hostish | st.none()})))
def test_capability_never_fails_with_5xx(tmp_path, body):
    app = BackOfficeApp(str(tmp_path / "prop.db"))
    try:
        resp = post(app, "/flexnet/deviceservices", json.dumps(body).encode())
        assert 200 <= resp.status < 500
        answer = json.loads(resp.body)
        assert answer["status"] in ("OK", "ERROR")
        if resp.status == 200:
            assert answer["role"] in ("MAIN", "BACKUP") and answer["deviceId"].startswith("FNLS-")
        else:
            assert answer["code"] and answer["message"]
    finally:
        app.close()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_are_a_client_error(tmp_path, raw):
    app = BackOfficeApp(str(tmp_path / "prop.db"))
    try:
        resp = post(app, "/flexnet/deviceservices", raw)
        assert 200 <= resp.status < 500
    finally:
        app.close()
