# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Short-lived kubeconfigs for registered clusters (gpve_kubeconfig).

expiry.py     the seed's security settings: 24 hours by default, at most 168
local_ca.py   a client certificate signed with the cluster CA the registry stores (credential ``ca``)
csr.py        a client certificate through the cluster's CertificateSigningRequest API (expiry honoured from 1.22)
token.py      a ServiceAccount token through the TokenRequest API (before 1.22, where a CSR's expiry is ignored)
service.py    choose the way, mint, build the kubeconfig, write it 0600, record the issued credential and an event
"""
