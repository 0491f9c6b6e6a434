"""vst.train: the stylizing network, the VGG-19 loss network, the hybrid loss and
two-frame synergic training (Huang et al. 2017, section 3 and 4.1)."""
