from __future__ import annotations

import pytest

from api.alerts.urlpolicy import UrlPolicy, UrlRefused, system_resolver


def fake_dns(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            return system_resolver(host, port)  # the real resolver, for names that cannot exist
        return table[host]

    return resolve


TABLE = {
    "hooks.example.org": ["93.184.216.34"],
    "internal.example.org": ["10.0.0.5"],
    "rebind.example.org": ["93.184.216.34", "127.0.0.1"],
    "v6.example.org": ["2606:4700::1111"],
    "localhost": ["127.0.0.1"],
}
DNS = fake_dns(TABLE)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "https://localhost/hook",
        "https://10.1.2.3/",
        "https://192.168.1.1/",
        "https://172.16.0.1/",
        "https://169.254.169.254/latest/meta-data/",  # cloud metadata
        "https://[::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://0.0.0.0/",
        "https://internal.example.org/hook",
        "https://rebind.example.org/hook",  # one private answer is enough to refuse
        "ftp://hooks.example.org/",
        "file:///etc/passwd",
        "https://user:pw@hooks.example.org/",
        "https:///nohost",
        "https://[::1/unclosed",
        "https://host:99999/",
        "https://" + "a" * 70 + ".example/",  # IDNA label too long: resolver error, not a crash
        "https://bad\x00host/",
    ],
)
def test_private_and_malformed_targets_are_refused(url: str) -> None:
    policy = UrlPolicy(allow_http=True, resolver=DNS)
    with pytest.raises(UrlRefused):
        policy.resolve(url)


def test_public_host_resolves_to_the_checked_address() -> None:
    target = UrlPolicy(resolver=DNS).resolve("https://hooks.example.org/bk?x=1")
    assert (target.host, target.ip) == ("hooks.example.org", "93.184.216.34")
    assert target.connect_url == "https://93.184.216.34:443/bk?x=1"
    v6 = UrlPolicy(resolver=DNS).resolve("https://v6.example.org/h")
    assert v6.connect_url == "https://[2606:4700::1111]:443/h"


def test_http_needs_opt_in() -> None:
    with pytest.raises(UrlRefused, match="scheme 'http'"):
        UrlPolicy(resolver=DNS).resolve("http://hooks.example.org/")
    assert UrlPolicy(allow_http=True, resolver=DNS).resolve("http://hooks.example.org/").ip == "93.184.216.34"


def test_configured_network_allows_loopback_and_nothing_else() -> None:
    policy = UrlPolicy(allow_networks=("127.0.0.0/8",), allow_http=True, resolver=DNS)
    assert policy.resolve("http://127.0.0.1:9000/h").connect_url == "http://127.0.0.1:9000/h"
    with pytest.raises(UrlRefused):
        policy.resolve("http://10.0.0.1/h")


def test_host_allow_list() -> None:
    policy = UrlPolicy(allow_hosts=("*.example.org",), resolver=DNS)
    assert policy.resolve("https://hooks.example.org/").ip == "93.184.216.34"
    with pytest.raises(UrlRefused, match="allow-list"):
        UrlPolicy(allow_hosts=("hooks.gov.cn",), resolver=DNS).resolve("https://hooks.example.org/")


def test_bad_network_config_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not a CIDR"):
        UrlPolicy(allow_networks=("loopback",))
