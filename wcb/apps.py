from django.apps import AppConfig

from raxx.periodic import PeriodicJob


class WcbConfig(AppConfig):
    name = "wcb"
    verbose_name = "What Could've Been"
    periodic_tasks = (
        PeriodicJob(name="wcb: EOD job", task="wcb.tasks.wcb_eod_job", crontab={"minute": "0", "hour": "22"},
                    calendar="nyse_close",
                    description="Finalize close-of-market WCB snapshots (daily 22:00 UTC)."),
        PeriodicJob(name="wcb: EOM job", task="wcb.tasks.wcb_eom_job", crontab={"minute": "0", "hour": "2"},
                    calendar="nyse_month_start",
                    description="Finalize monthly WCB snapshots; works on the first trading day of a month."),
        PeriodicJob(name="wcb: retention prune", task="wcb.tasks.wcb_retention_prune",
                    crontab={"minute": "30", "hour": "3"},
                    description="Delete WCB snapshots of customers free for 90 days (revision §13.3)."),
    )
