"""The emulated FlexNet Operations back office (MODEL.md section 5).

- ``POST /flexnet/deviceservices``: capability requests, which register servers and failover pairs
- ``/flexnet/operations/devices``: the device API, ``lab`` style (HTTP Basic auth)
- ``/flexnet/operations/manageDevice/2.0/devices`` (``/create``, ``/delete``): FNO's device API as JSON
  REST, ``rest`` style (HTTP Basic auth; ``devapi.py``)
- ``/flexnet/services/v3/ManageDeviceService``: the same as SOAP ManageDeviceService v3 (HTTP Basic auth;
  ``GET …?wsdl`` public; ``soap.py``, ``wsdl/ManageDeviceService.wsdl``)
- ``/flexnet/operations/entitlements``, ``/flexnet/operations/devices/<id>/rights``: entitlements and
  the rights mapped to devices (HTTP Basic auth, MODEL.md section 6)
- ``/portal/``: the End-User Portal, read-only, no login (as modelled)
- ``/lab/events``, ``/lab/faults``: lab control (HTTP Basic auth)

Run it with ``python -m fnlslab.backoffice --db PATH`` or, in-process, with ``start_in_thread``.
"""

from .app import BackOfficeApp, Faults, HttpError, Request, Response
from .rules import RegistrationError, parse_hostid
from .server import BackOfficeHandle, BackOfficeHTTPServer, start_in_thread

__all__ = [
    "BackOfficeApp", "BackOfficeHandle", "BackOfficeHTTPServer", "Faults", "HttpError", "RegistrationError",
    "Request", "Response", "parse_hostid", "start_in_thread",
]
