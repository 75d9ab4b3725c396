"""Stand-in for pip's get-pip.py bootstrap script, for ansible-test on this network.

ansible-test bootstraps pip in each sanity venv by running a get-pip.py it downloads
from a host outside the package registries. This script does the same job from what is
already here: ensurepip from the standard library, then pip installs the packages
ansible-test asked for (from the package index, which is reachable).
The Makefile copies it to ~/.ansible/test/cache/get_pip_<version>.py.
"""

import ensurepip
import os
import subprocess
import sys

GET_PIP_ONLY_FLAGS = {"--no-setuptools", "--no-wheel"}


def main():
    ensurepip.bootstrap(upgrade=True)
    # ensurepip points PIP_CONFIG_FILE at /dev/null for its own offline run; the real
    # install must see the machine's pip configuration (index, certificates) again.
    os.environ.pop("PIP_CONFIG_FILE", None)
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_FLAGS]
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)


if __name__ == "__main__":
    main()
