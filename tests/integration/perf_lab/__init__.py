"""A small lab for provisioning tests: Debian roots booted with systemd-nspawn in
network namespaces of their own, reached over SSH, plus the helpers to run Ansible
against them."""
