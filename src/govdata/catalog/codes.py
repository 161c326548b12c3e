"""The URL form of a resource code (CAT-2): ``<classification>/<provider code><sequence>``.

Registered as the path convertor ``rcode`` so that ``/resources/{code:rcode}/batches`` and
``/resources/{code:rcode}`` never mistake one another (a code holds exactly one slash).
"""

from starlette.convertors import Convertor, register_url_convertor


class ResourceCodeConvertor(Convertor):
    # the second part ends with the six-digit sequence, so an action (``abc/submit``) is never a code
    regex = r"[0-9A-Za-z]+/[0-9A-Za-z]*[0-9]{6}"
    examples = ["101/002000001"]  # for the API documentation
    label = "资源"  # a path naming a malformed code answers "资源 … 不存在"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("rcode", ResourceCodeConvertor())
