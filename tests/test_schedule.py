"""The release schedule sets each month's deadline: the first scheduled run after the month ends."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from institutions import sample_document, write_institution

from transparencia.domain import Period, ReleaseSchedule
from transparencia.errors import ConfigError
from transparencia.sources.config import load_config

PANAMA = ZoneInfo("America/Panama")


def test_the_default_deadline_is_the_scheduled_release_on_day_5():
    deadline = ReleaseSchedule().deadline(Period(2025, 1))
    assert deadline.moment == dt.datetime(2025, 2, 5, 6, 0, tzinfo=PANAMA)
    assert deadline.label_es == "5 de febrero de 2025 a las 06:00"


def test_december_is_due_in_january_of_the_next_year():
    assert ReleaseSchedule().deadline(Period(2024, 12)).moment == dt.datetime(2025, 1, 5, 6, 0, tzinfo=PANAMA)


def test_a_release_at_midnight_on_the_first_is_that_same_night():
    deadline = ReleaseSchedule(cron="0 0 1 * *").deadline(Period(2025, 1))
    assert deadline.moment == dt.datetime(2025, 2, 1, 0, 0, tzinfo=PANAMA)


def test_an_input_is_late_from_the_deadline_on():
    deadline = ReleaseSchedule().deadline(Period(2025, 1))
    assert not deadline.missed_by(dt.datetime(2025, 2, 5, 5, 59, tzinfo=PANAMA))
    assert deadline.missed_by(dt.datetime(2025, 2, 5, 6, 0, tzinfo=PANAMA))
    assert deadline.missed_by(dt.datetime(2025, 2, 5, 11, 30, tzinfo=dt.UTC))  # 06:30 in Panama


def test_the_configuration_sets_the_schedule_and_hence_the_deadline(tmp_path):
    document = sample_document()
    document["schedule"] = {"cron": "30 17 10 * *"}
    config = load_config(write_institution(tmp_path, document))
    assert config.schedule.timezone == "America/Panama"
    assert config.schedule.deadline(Period(2025, 3)).label_es == "10 de abril de 2025 a las 17:30"


def test_without_a_schedule_the_configuration_has_the_default_one(tmp_path):
    config = load_config(write_institution(tmp_path, sample_document()))
    assert config.schedule == ReleaseSchedule()


@pytest.mark.parametrize(("schedule", "said"), [
    ({"cron": "0 6 45 * *"}, "schedule: Programación (cron) inválida '0 6 45 * *'"),
    ({"timezone": "America/Gotham"}, "schedule: Zona horaria desconocida 'America/Gotham'"),
])
def test_a_bad_schedule_is_a_configuration_error_naming_the_key(tmp_path, schedule, said):
    document = sample_document()
    document["schedule"] = schedule
    with pytest.raises(ConfigError) as caught:
        load_config(write_institution(tmp_path, document))
    assert said in str(caught.value)
