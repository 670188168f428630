"""fnls-lab: an emulated FlexNet Operations back office and FlexNet Embedded license servers.

See MODEL.md beside this package for every interface it emulates, confirmed or modelled.
"""

__version__ = "0.1.0"
