"""vst.core: what every stage shares — the stylizing network (Table 1), its checkpoint
format, the frame/tensor convention, image I/O, file types, errors and exit codes, atomic
writes, CLI helpers and the host CPU's facts. It imports no other part of vst."""
