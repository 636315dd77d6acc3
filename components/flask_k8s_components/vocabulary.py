"""The words both sides of a deployment must agree on: Kubernetes' name grammar and what looks secret.

settings/ (which refuses bad config before anything is created) and the policy pack (which refuses
bad objects at preview) import these, so the two can never disagree about what a valid name or a
secret-looking ConfigMap key is. Plain data and pure functions: no Pulumi, no Kubernetes client.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final

# Kubernetes limits object names used as labels, DNS labels and Service names to 63 characters.
MAX_NAME: Final = 63

# RFC 1123 label, as Kubernetes checks namespace and label-like names.
DNS_LABEL: Final = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# RFC 1035 label: Service (and so Deployment-derived) names must also start with a letter.
DNS_1035_LABEL: Final = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS_NAME: Final = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_NAME_RULE: Final = "a DNS name of lowercase letters, digits, '-' and '.' (labels up to 63 characters)"

# Label values: at most 63 characters of alphanumerics, '-', '_' and '.', alphanumeric at both ends.
_LABEL_VALUE: Final = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
# Annotation and label keys: an optional DNS-subdomain prefix and a name part.
_QUALIFIED_NAME: Final = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
# Environment variable names a ConfigMap may carry for envFrom (C identifiers, as Kubernetes warns).
_ENV_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# The image reference grammar of distribution/reference (reference.go), which is what the
# container runtime parses: [host[:port]/]path[:tag][@digest]. No maintained PyPI library
# implements it, so the grammar is transcribed here rather than approximated.
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_IMAGE: Final = re.compile(
    rf"^(?P<name>(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$"
)

# What a ConfigMap key must not look like (ConfigMaps are not encrypted): in any case, with or
# without a separator. The program refuses such app.env keys; the policy pack such ConfigMap keys.
SECRET_KEY_PATTERN: Final = re.compile(
    r"password|passwd|secret|token|api[-_.]?key|private[-_.]?key|credential", re.IGNORECASE
)


def secret_looking_word(key: str) -> str | None:
    """The secret-looking word in a key name (e.g. 'PASSWORD' in 'DB_PASSWORD'), or None."""
    match = SECRET_KEY_PATTERN.search(key)
    return match.group(0) if match else None


def dns_label_problem(value: str, what: str, *, rfc1035: bool = False) -> str | None:
    """Why `value` cannot be the DNS label `what` (a namespace name, ...), or None."""
    if len(value) > MAX_NAME:
        return f"{what} must be at most {MAX_NAME} characters (it has {len(value)})"
    if not (DNS_1035_LABEL if rfc1035 else DNS_LABEL).match(value):
        start = "a lowercase letter" if rfc1035 else "a lowercase letter or digit"
        return (
            f"{what} must be lowercase letters, digits and '-', starting with {start} and ending with a letter or digit"
        )
    return None


def is_dns_name(value: str, wildcard: bool = False) -> bool:
    """A DNS subdomain (an Ingress host may add one leading wildcard label)."""
    name = value[2:] if wildcard and value.startswith("*.") else value
    return len(value) <= 253 and bool(_DNS_NAME.match(name)) and all(len(p) <= MAX_NAME for p in name.split("."))


def is_ip_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def is_label_value(value: str) -> bool:
    return len(value) <= MAX_NAME and bool(_LABEL_VALUE.match(value))


def is_qualified_name(key: str) -> bool:
    """An annotation or label key: [prefix/]name."""
    prefix, _, name = key.rpartition("/")
    return bool(_QUALIFIED_NAME.match(key)) and len(name) <= MAX_NAME and len(prefix) <= 253


def is_env_name(key: str) -> bool:
    return bool(_ENV_NAME.match(key))


def is_image_reference(image: str) -> bool:
    return bool(_IMAGE.match(image))


def image_tag(image: str) -> str | None:
    """The tag of an image reference, or None when it has none (digest-only or implicit latest)."""
    match = _IMAGE.match(image)
    return match.group("tag") if match else None
