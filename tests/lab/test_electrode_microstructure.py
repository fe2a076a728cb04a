"""Recipe -> microstructure relations: calibration points, mass conservation, monotonic trends, input checks."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from lab.errors import ConfigError
from lab.scenarios.electrode.microstructure import (
    MicrostructureConstants,
    build_microstructure,
    manufacturable,
    max_calendering,
    solid_volume_fractions,
)


def test_dry_film_reproduces_the_measured_drying_points():
    m = build_microstructure([94.0, 94.0], [60.0, 69.0], [0.0, 0.0])
    np.testing.assert_allclose(m.porosity, [0.487, 0.461], atol=1e-12)
    np.testing.assert_allclose(m.thickness_um, [138.0, 178.0], atol=1e-9)


def test_calendering_conserves_mass_and_follows_the_porosity_law():
    cd = np.array([0.0, 10.0, 20.0, 30.0])
    m = build_microstructure(94.5, 63.0, cd)
    eps0 = m.porosity_dry[0]
    np.testing.assert_allclose(m.porosity, 1 - (1 - eps0) / (1 - cd / 100), rtol=1e-12)
    np.testing.assert_allclose(m.thickness_um, m.thickness_dry_um[0] * (1 - cd / 100), rtol=1e-12)
    solid_per_area = (1 - m.porosity) * m.thickness_um
    np.testing.assert_allclose(solid_per_area, solid_per_area[0], rtol=1e-12)
    np.testing.assert_allclose(m.loading_mg_cm2, m.loading_mg_cm2[0], rtol=1e-12)
    np.testing.assert_allclose(m.density_g_cm3 * m.thickness_um, m.density_g_cm3[0] * m.thickness_um[0], rtol=1e-12)


def test_more_calendering_is_thinner_denser_and_more_tortuous():
    m = build_microstructure(94.0, 64.0, np.linspace(0, 30, 7))
    for name in ("porosity", "thickness_um"):
        assert np.all(np.diff(getattr(m, name)) < 0), name
    for name in ("tortuosity", "am_volume_fraction", "density_g_cm3", "conductivity_S_m", "bruggeman"):
        assert np.all(np.diff(getattr(m, name)) > 0), name


def test_higher_solid_content_gives_thicker_denser_heavier_films():
    m = build_microstructure(94.0, np.linspace(55, 73, 7), 0.0)
    assert np.all(np.diff(m.thickness_um) > 0)
    assert np.all(np.diff(m.porosity) < 0)
    assert np.all(np.diff(m.density_g_cm3) > 0)
    assert np.all(np.diff(m.loading_mg_cm2) > 0)


def test_more_active_material_packs_more_am_but_conducts_less():
    m = build_microstructure(np.linspace(92.7, 96.0, 5), 64.0, 10.0)
    assert np.all(np.diff(m.am_volume_fraction) > 0)
    assert np.all(np.diff(m.conductivity_S_m) < 0)
    assert np.all(np.diff(m.surface_share) > 0)
    assert np.all((m.surface_share >= 0.56 - 1e-12) & (m.surface_share <= 0.70 + 1e-12))


def test_phase_volumes_close_and_relations_hold():
    w, s, cd = np.meshgrid([92.7, 94.0, 96.0], [55.0, 64.0, 73.0], [0.0, 15.0, 25.0])
    c = MicrostructureConstants()
    m = build_microstructure(w.ravel(), s.ravel(), cd.ravel(), c)
    cbd_skeleton = m.cbd_volume_fraction * (1 - c.cbd_internal_porosity)
    np.testing.assert_allclose(m.porosity + m.am_volume_fraction + cbd_skeleton, 1.0, rtol=1e-12)
    np.testing.assert_allclose(m.tortuosity, m.porosity ** (1 - m.bruggeman), rtol=1e-12)
    np.testing.assert_allclose(
        m.specific_surface_area_1_m, m.surface_share * 3 * m.am_volume_fraction / c.particle_radius_m, rtol=1e-12
    )
    np.testing.assert_allclose(m.areal_capacity_mAh_cm2, m.loading_mg_cm2 * c.specific_capacity_mAh_g / 1e3)
    phi_am, phi_cbd = solid_volume_fractions(np.array([94.0]), c)
    np.testing.assert_allclose(phi_am, (94 / 4.65) / (94 / 4.65 + 6 / 1.8))
    assert m.to_frame().shape == (27, 14)


def test_max_calendering_reaches_the_porosity_limit_exactly():
    w, s = np.array([92.7, 94.0, 96.0]), np.array([55.0, 64.0, 73.0])
    cd = max_calendering(w, s)
    np.testing.assert_allclose(build_microstructure(w, s, cd).porosity, 0.2, atol=1e-12)
    assert manufacturable(w, s, cd - 0.01).all()
    assert not manufacturable(w, s, cd + 0.01).any()


def test_bruggeman_rises_only_with_the_configured_slope():
    flat = MicrostructureConstants(bruggeman_calendering_slope=0.0)
    m = build_microstructure(94.0, 64.0, [0.0, 30.0], flat)
    np.testing.assert_allclose(m.bruggeman, 1.5)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"active_material": 100.0, "solid_content": 60.0, "calendering": 0.0}, "active_material"),
        ({"active_material": 94.0, "solid_content": float("nan"), "calendering": 0.0}, "solid_content"),
        ({"active_material": 94.0, "solid_content": 60.0, "calendering": -1.0}, "calendering"),
    ],
)
def test_meaningless_inputs_are_refused_naming_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        build_microstructure(**kwargs)


def test_constants_are_validated():
    with pytest.raises(ValidationError):
        MicrostructureConstants(am_density_g_cm3=-1.0)
    with pytest.raises(ValidationError):
        MicrostructureConstants(unknown_constant=1.0)
    with pytest.raises(ValidationError, match="calibration points"):
        MicrostructureConstants(reference_solid_content=(60.0, 60.0))
