"""vst.train: the VGG-19 loss network, the hybrid loss, training pairs with optical flow and
two-frame synergic training (Huang et al. 2017, section 3.2 and 4.1). The network it trains
is vst.core.stylizer's."""
