"""A portal whose gateway hides ``status_show`` is still recognised as CKAN, its plugins probed, and
published to as any other (publishers.ckan_capabilities).

The national portal's gateway answers ``status_show`` with an HTML page while the rest of its API
answers (shared reference, datosabiertos.gob.pa). The tests put a loopback proxy in front of the real
local CKAN that answers that action with a firewall's page, and, for a portal without
ckanext-xloader, answers its actions as CKAN answers an action no plugin provides.
"""

from __future__ import annotations

import pytest
from ckan_proxy import FaultProxy, through
from ckan_release import dataset_spec, expected_totals, month_rows, render_release, table_totals
from ckan_server import published

from transparencia.publishers import ckan_views
from transparencia.publishers.ckan_capabilities import PortalCapabilities, portal_capabilities
from transparencia.publishers.ckan_client import CkanClient, UnknownActionError

pytestmark = pytest.mark.ckan

MONTH = "Planilla 2025-01 (CSV)"


def capabilities_through(server, *, hides_status: bool, offers_xloader: bool) -> PortalCapabilities:
    with FaultProxy(server.url, offers_xloader=offers_xloader, hides_status=hides_status) as proxy:
        return portal_capabilities(CkanClient(proxy.url, server.token))


@pytest.mark.parametrize("offers_xloader", [True, False], ids=["with xloader", "without xloader"])
def test_hidden_or_not_the_portals_plugins_are_the_same(ckan_server, offers_xloader):
    said = capabilities_through(ckan_server, hides_status=False, offers_xloader=offers_xloader)
    probed = capabilities_through(ckan_server, hides_status=True, offers_xloader=offers_xloader)

    assert said.version and probed.version is None
    assert (probed.datastore, probed.xloader, probed.table_view) == (said.datastore, said.xloader, said.table_view)
    assert (probed.datastore, probed.xloader) == (True, offers_xloader)


def test_an_action_no_plugin_provides_is_told_apart_from_a_refusal(ckan_server):
    client = CkanClient(ckan_server.url, ckan_server.token)

    with pytest.raises(UnknownActionError, match="no ofrece la acción 'accion_de_otra_extension'"):
        client.call("accion_de_otra_extension")


def test_behind_a_gateway_that_hides_status_show_a_month_is_published_with_its_table_and_view(ckan_server, ckan_org,
                                                                                               tmp_path):
    name = f"{ckan_org}-planilla"
    month = month_rows("2025-01", 800)
    files = render_release(tmp_path, {"2025-01": month})

    with FaultProxy(ckan_server.url, hides_status=True) as proxy:
        publisher = through(proxy, ckan_server, public_url=ckan_server.url)
        user = publisher.preflight(ckan_org)
        result = publisher.sync(dataset_spec(ckan_org, name), files)
        again = through(proxy, ckan_server)
        rerun = again.sync(dataset_spec(ckan_org, name), files)

    assert user and result.error is None, result.error
    table = published(ckan_server, name)[MONTH]
    assert table_totals(ckan_server, table["id"]) == expected_totals(month)
    views = ckan_server.admin().action.resource_view_list(id=table["id"])
    assert [(v["view_type"], v["title"]) for v in views] == [("datatables_view", "Tabla")]
    assert ("status_show", "pass") in proxy.seen and ("xloader_status", "pass") in proxy.seen
    assert rerun.writes == 0 and again.client.writes == 0


def test_a_portal_that_refuses_the_table_view_keeps_the_table_without_one(ckan_server, ckan_org, tmp_path,
                                                                            monkeypatch):
    """Where the portal's plugins are hidden the view is tried; a portal without it answers that the view
    type has no plugin (asked here of the real CKAN with a type it does not have), and the month stands."""
    monkeypatch.setattr(ckan_views, "TABLE_VIEW", "vista_que_el_portal_no_tiene")
    name = f"{ckan_org}-planilla"
    month = month_rows("2025-01", 300)
    files = render_release(tmp_path, {"2025-01": month})

    with FaultProxy(ckan_server.url, hides_status=True) as proxy:
        result = through(proxy, ckan_server).sync(dataset_spec(ckan_org, name), files)

    assert result.error is None, result.error
    table = published(ckan_server, name)[MONTH]
    assert table_totals(ckan_server, table["id"]) == expected_totals(month)
    assert ckan_server.admin().action.resource_view_list(id=table["id"]) == []
    assert not any(action.target.value == "view" for action in result.actions)
