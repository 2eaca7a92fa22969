#!/bin/sh
# Live test in the VM test bed (issue 15): the daemon's --scope on a cgroup
# v2 group (memory.max, memory.swap.max, cgroup.kill), which this host has
# no v2 memory controller for. The guest does the work:
# tests/vm/scripts/scope_v2.sh. About 30 s under TCG.
. tests/lib.sh
vm_check
if [ -n "$VM_WHY" ]; then
    skip vm_scope_v2 "$VM_WHY"
    exit 0
fi
vm_script vm_scope_v2 tests/vm/scripts/scope_v2.sh 180
