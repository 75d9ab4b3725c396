# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster PKI: keys, certificates, the kubeadm/vcluster bundle layout and renewal.

keys.py      private/public keys (ECDSA P-256 by default, RSA 2048 on request) and PEM
certs.py     issuing CAs and leaves, reading a certificate back (SANs, usages, issuer, expiry)
layout.py    what a virtual cluster's control plane needs: names, subjects, usages, SANs
bundle.py    the whole bundle: generate, serialise to the flat key -> PEM map vcluster stores, load
renewal.py   which leaves are due (missing, expiring, wrong issuer, changed SANs) and renewing them

Nothing here logs or returns key material on its own: objects holding keys print their names only.
"""
