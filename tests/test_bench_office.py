"""`siaptui bench office`: the day's plan and its counts, on minutiae sets (fast)."""

from __future__ import annotations

from siaptui.bench import office
from tests.biometrics.engine_helpers import moved, random_template


def test_every_ghost_comes_back_after_its_first_visit_under_another_nss() -> None:
    visits = office.plan(20, 0.2, views=2, seed=3)
    ghosts = [v for v in visits if v.ghost_of]
    assert len(visits) == 24 and len(ghosts) == 4
    for ghost in ghosts:
        first = next(i for i, v in enumerate(visits) if v.nss == ghost.ghost_of)
        assert visits.index(ghost) > first and ghost.person == visits[first].person
        assert ghost.impressions == (2,)  # fresh impressions, never the enrolled ones


def test_each_seed_is_an_office_of_other_people_and_seed_1_the_office_of_record() -> None:
    """A figure is checked on offices it was never looked at on: another seed, other fingers."""
    people = {seed: {v.person for v in office.plan(200, 0.05, views=2, seed=seed)} for seed in (1, 2, 3)}
    assert min(people[1]) == office.FIRST_PERSON_SEED and len(people[1]) == 200
    assert not people[1] & people[2] and not people[2] & people[3]


def test_the_day_counts_ghosts_caught_and_no_false_alarm() -> None:
    visits = office.plan(12, 0.25, views=1, seed=5)
    templates = {}
    for v in visits:
        for finger in office.FINGERS:
            for n in v.impressions:
                base = random_template(v.person * 10 + finger)
                templates[(v.person, finger, n)] = moved(base, 0.1 * n, (5.0 * n, -4.0 * n), seed=n, jitter=1.5)
    result = office.run_day(visits, templates)
    assert result["honest"] == 12 and result["reenrolled"] == 3
    assert result["caught"] == 3 and result["false_alarms"] == 0


def test_the_projection_convolves_the_sampled_fingers_up_to_the_threshold() -> None:
    """Fingers with the calibrated tail project what the calibration does; fingers with a
    heavier tail project more — compounded over ten fingers, not scaled from score 30."""
    import numpy as np

    from siaptui.biometrics import person

    pmf = person._impostor_finger_pmf()
    grid = person.LLR_FLOOR + np.arange(pmf.size) * person._STEP
    calibrated = np.repeat(grid, np.rint(pmf * 2e6).astype(int))
    heavier = np.concatenate([calibrated, np.full(calibrated.size // 100, person.LLR_CAP)])  # 1 % at the cap
    threshold = person.alarm_threshold(10_000)
    results = []
    for sample in (calibrated, heavier):
        compared = 10**6
        counts = {level: round(person.independent_tail(sample, 10, level) * compared) for level in office.TAIL_LEVELS}
        results.append(office.tail_projection(counts, compared, sample.tolist(), threshold))
    fair, heavy = results
    assert fair["tail_ratio_to_independent"]["30.0"] == 1.0
    ratio = {name: r["projected_false_alarm_rate_10k"] / r["projected_false_alarm_rate_10k_calibrated_fingers"]
             for name, r in (("fair", fair), ("heavy", heavy))}
    assert abs(ratio["fair"] - 1) < 0.3 and ratio["heavy"] > 10
