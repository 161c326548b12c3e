"""The URL form of a resource code (CAT-2): ``<classification>/<provider code><sequence>``.

Registered as the path convertor ``rcode`` so that ``/resources/{code:rcode}/batches`` and
``/resources/{code:rcode}`` never mistake one another (a code holds exactly one slash).
"""

from starlette.convertors import Convertor, register_url_convertor


class ResourceCodeConvertor(Convertor):
    regex = r"[0-9A-Za-z]+/[0-9A-Za-z]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("rcode", ResourceCodeConvertor())
