import numpy as np


def test_rotation_explorer_has_no_rotation_when_the_noise_is_aligned():
    from widgets import RotationExplorer, rotation_explorer
    from widgets.rotation import STATIC_ANGLES, STATIC_MOMENTA

    explorer = rotation_explorer(angle=0.0, momentum=0.9)
    assert isinstance(explorer, RotationExplorer)
    scale = np.abs(explorer.frame.ellipse).max() ** 2
    assert abs(explorer.frame.rotation) < 1e-12 * scale          # commuting: round-off
    assert np.abs(explorer.frame.velocity[..., 2:]).max() < 1e-9
    before = explorer.image.value
    explorer.angle.value = 30.0
    assert explorer.image.value != before
    assert abs(explorer.frame.rotation) > 1e-4                     # tilted: a rotation
    html = explorer.static_html()
    assert html.count("data:image/png;base64,") == len(STATIC_ANGLES) * len(STATIC_MOMENTA) + 1
    assert html.count('<input type="range"') == 2 and "http" not in html
