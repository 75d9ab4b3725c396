# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The normalised spec as the registry stores it, and back.

The registry's k8s-vm table keeps the distribution name in a column of its own and the
network under ``networking``; the distribution's release and config travel as
``distribution_release`` and ``distribution_config``.
"""

from __future__ import annotations

import copy


def to_stored(spec):
    doc = copy.deepcopy(spec)
    distribution = doc.pop('distribution')
    doc['distribution'] = distribution['type']
    doc['distribution_release'] = distribution['version']
    doc['distribution_config'] = distribution['config']
    doc['networking'] = doc.pop('network')
    return doc


def from_stored(doc):
    spec = copy.deepcopy(doc or {})
    spec['distribution'] = {'type': spec.pop('distribution', None), 'version': spec.pop('distribution_release', None),
                            'config': spec.pop('distribution_config', None) or {}}
    spec['network'] = spec.pop('networking', None)
    return spec
