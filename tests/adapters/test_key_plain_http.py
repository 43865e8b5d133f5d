"""The key travels only over TLS: a plain-http endpoint on another machine is refused."""

from __future__ import annotations

import pytest

from tests.adapters.test_cli import home, run, served, user_config, write_config  # noqa: F401

PLAIN = "http://nexus.example:8080"


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_a_plain_http_endpoint_elsewhere_is_refused_naming_the_url(home, served, capsys, dry_run):  # noqa: F811
    write_config(user_config(home), api_key="k")

    with pytest.raises(SystemExit) as exited:
        run("start", "--endpoint-url", PLAIN, *dry_run)

    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert PLAIN in err
    assert "TLS" in err
    assert served == []


def test_a_plain_http_endpoint_in_the_config_file_is_refused(home, served, capsys):  # noqa: F811
    write_config(user_config(home), api_key="k", endpoint_url="http://10.0.0.5/")

    with pytest.raises(SystemExit):
        run("start")

    assert "http://10.0.0.5" in capsys.readouterr().err
    assert served == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:9999", "http://localhost:9999", "http://[::1]:9999"])
def test_plain_http_on_this_machine_stays_allowed(home, served, url):  # noqa: F811
    write_config(user_config(home), api_key="k")

    run("start", "--endpoint-url", url)

    assert served[0].endpoint_url == url
