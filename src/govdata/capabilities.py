"""The capabilities the platform is made of, assembled in one place: their HTTP routers and pages, and
their job and event handlers (which must be registered in every process that runs jobs: the server,
``govdata worker``, and the CLI when it runs a batch in process), and the sweeps the one scheduler
fires (``core.scheduler``)."""

from __future__ import annotations

from fastapi import FastAPI

from govdata.aggregation import handlers as aggregation_handlers  # noqa: F401  (the catalog's publish check)
from govdata.aggregation import jobs as aggregation_jobs  # noqa: F401  (registers the batch job)
from govdata.aggregation import retention as aggregation_retention  # (registers the upload sweep job)
from govdata.aggregation.api import router as aggregation_router
from govdata.aggregation.pulls.api import router as aggregation_pulls_router
from govdata.aggregation.records_web import router as aggregation_records_web
from govdata.aggregation.web import router as aggregation_web
from govdata.catalog.api import router as catalog_router
from govdata.catalog.elements_api import router as catalog_elements_router
from govdata.catalog.exchange_api import router as catalog_exchange_router
from govdata.catalog.web import router as catalog_web
from govdata.catalog.web.elements import router as catalog_elements_web
from govdata.core import clock, jobs, scheduler
from govdata.core.config import Settings
from govdata.evaluation.api import router as evaluation_router
from govdata.evaluation.report.api import router as evaluation_report_router
from govdata.evaluation.web.dashboards import router as evaluation_dashboard_web
from govdata.evaluation.web.scorecards import router as evaluation_scorecards_web
from govdata.libraries.api import router as libraries_router
from govdata.libraries.web import router as libraries_web
from govdata.notifications.api import router as notifications_router
from govdata.notifications.web import router as notifications_web
from govdata.objections import handlers as objections_handlers  # noqa: F401  (corrections settled, the flag)
from govdata.objections import service as objections_service
from govdata.objections.api import router as objections_router
from govdata.objections.web import router as objections_web
from govdata.opening.api import router as opening_router
from govdata.opening.interop.api import router as opening_interop_router
from govdata.opening.interop.ckan_api import router as opening_ckan_router
from govdata.opening.public_api import router as opening_public_router
from govdata.opening.web.account import router as opening_account_web
from govdata.opening.web.downloads import api as opening_open_api
from govdata.opening.web.downloads import router as opening_downloads_web
from govdata.opening.web.manage import router as opening_manage_web
from govdata.opening.web.portal import router as opening_portal_web
from govdata.orgs.admin_web import router as orgs_admin_web
from govdata.orgs.api import router as orgs_router
from govdata.orgs.web import router as orgs_web
from govdata.oversight import detectors as oversight_detectors  # noqa: F401  (detectors in the sweep)
from govdata.platform.api import router as platform_router
from govdata.platform.policy_web import router as platform_policy_web
from govdata.platform.web import router as platform_web
from govdata.projects.api import router as projects_router
from govdata.projects.web import router as projects_web
from govdata.quality import handlers as quality_handlers  # noqa: F401  (rescoring after batches)
from govdata.quality.api import router as quality_router
from govdata.quality.web import router as quality_web
from govdata.sharing import handlers as sharing_handlers  # noqa: F401  (subscribers told after batches)
from govdata.sharing import service as sharing_service
from govdata.sharing.api import router as sharing_router
from govdata.sharing.data_api import router as sharing_data_router
from govdata.sharing.interface_api import router as sharing_interface_router
from govdata.sharing.receipts_api import router as receipts_router
from govdata.sharing.subscriptions_api import router as sharing_subscriptions_router
from govdata.sharing.web import router as sharing_web
from govdata.supervision import notices as supervision_notices
from govdata.supervision.api import router as supervision_router
from govdata.supervision.web import router as supervision_web
from govdata.workbench.web import router as workbench_web

# Routes are matched in this order: the sharing services come first, as the calls systems make most
# (a lookup by key should not be matched against every page of the workbench before its own route).
ROUTERS = (
    sharing_data_router,
    opening_router,
    opening_ckan_router,
    opening_interop_router,  # before the portal: /datasets/<code>.ttl is no dataset page
    opening_open_api,
    opening_downloads_web,
    opening_portal_web,  # the public portal: /, /datasets, /organizations
    opening_public_router,
    opening_account_web,  # before the portal: /datasets/<code>/apply is no dataset page
    orgs_router,
    platform_router,
    catalog_router,
    catalog_elements_router,
    aggregation_router,
    aggregation_pulls_router,
    catalog_exchange_router,
    orgs_admin_web,  # before orgs_web: /departments/register is no department's id
    orgs_web,
    platform_web,
    platform_policy_web,
    catalog_web,
    catalog_elements_web,
    quality_router,
    quality_web,
    libraries_router,
    libraries_web,
    aggregation_records_web,
    aggregation_web,
    notifications_router,
    notifications_web,
    supervision_router,
    supervision_web,
    projects_router,
    projects_web,
    workbench_web,
    evaluation_dashboard_web,
    evaluation_report_router,
    evaluation_router,
    evaluation_scorecards_web,
    receipts_router,
    sharing_router,
    sharing_interface_router,
    sharing_subscriptions_router,
    sharing_web,
    objections_router,
    objections_web,
    opening_manage_web,
)


# An internet-facing portal instance (``GOVDATA_PORTAL_ONLY``, docs/opening-feed.md) serves the public
# routes alone: the portal's pages, downloads, the open-data API, CKAN, DCAT and data packages.
PORTAL_ROUTERS = (
    opening_ckan_router,
    opening_interop_router,
    opening_open_api,
    opening_downloads_web,
    opening_portal_web,
)


def mount(app: FastAPI) -> None:
    for router in PORTAL_ROUTERS if app.state.settings.portal_only else ROUTERS:
        app.include_router(router)


@scheduler.every(quality_handlers.CLOCK_SNAPSHOTS, "0 1 * * *")
def enqueue_quality_clock_snapshots(factory) -> None:
    """Quality's daily timeliness snapshots, at 01:00 China time: one job per China date, however many
    processes fire the sweep."""
    day = clock.today().isoformat()
    scheduler.enqueue_once(
        factory, quality_handlers.CLOCK_SNAPSHOTS, {"date": day}, key=f"quality.clock:{day}"
    )


@scheduler.every(quality_handlers.PERIODIC_CHECK, "30 1 * * 1")
def enqueue_quality_periodic_check(factory) -> None:
    """Quality's periodic check (定期检查, seed 002), Mondays at 01:30 China time: every published
    resource with a data table scored in full; one job per ISO week."""
    year, week, _ = clock.today().isocalendar()
    period = f"{year}-W{week:02d}"
    scheduler.enqueue_once(
        factory, quality_handlers.PERIODIC_CHECK, {"period": period}, key=f"quality.check:{period}"
    )


@scheduler.every(aggregation_retention.SWEEP, "30 2 * * *")
def enqueue_upload_retention(factory) -> None:
    """Aggregation's daily removal of uploaded sources past their retention, at 02:30 China time: one
    job per China date."""
    day = clock.today().isoformat()
    scheduler.enqueue_once(
        factory, aggregation_retention.SWEEP, {"date": day}, key=f"aggregation.retention:{day}"
    )


@scheduler.every(sharing_service.SWEEP, "5 * * * *")
def enqueue_sharing_sweep(factory) -> None:
    """Sharing's sweep (escalations, expiries, reminders), hourly: one job per China hour."""
    hour = clock.china_now().strftime("%Y-%m-%dT%H")
    scheduler.enqueue_once(factory, sharing_service.SWEEP, {"hour": hour}, key=f"sharing.sweep:{hour}")


@scheduler.every(objections_service.SWEEP, "10 * * * *")
def enqueue_objections_sweep(factory) -> None:
    """Objections' sweep (overdue reviews escalated, corrections settled), hourly: one job per China
    hour."""
    hour = clock.china_now().strftime("%Y-%m-%dT%H")
    scheduler.enqueue_once(factory, objections_service.SWEEP, {"hour": hour}, key=f"objections.sweep:{hour}")


@scheduler.every(supervision_notices.SWEEP, "15 * * * *")
def enqueue_supervision_sweep(factory) -> None:
    """Supervision's sweep (violation detectors, overdue rectification notices escalated), hourly: one
    job per China hour."""
    hour = clock.china_now().strftime("%Y-%m-%dT%H")
    scheduler.enqueue_once(
        factory, supervision_notices.SWEEP, {"hour": hour}, key=f"supervision.sweep:{hour}"
    )


def make_worker(settings: Settings, factory, store, *, threads: int = 1) -> jobs.Worker:
    """A job worker over the given stores, with every capability's handlers registered."""
    context = jobs.JobContext(factory=factory, store=store, data_dir=settings.data_dir, settings=settings)
    return jobs.Worker(context, threads=threads, lease_seconds=settings.job_lease_seconds)
