"""The paper's published Table I (test MSE per drug, mean over 5 Monte Carlo 70/30 splits), for marking the
published values beside this project's own in the report. Drug names as in the CCLE pharmacology file (the
paper's table spells Nilotinib "Nilotnib" and Sorafenib "Sorafinib"); its "NN" column is the simple ANN."""

PAPER_METHODS = ("RF", "SVR", "EN", "ANN", "PM")

PAPER_TABLE1 = {   # drug: (RF, SVR, EN, NN, PM)
    "AEW541": (0.358, 0.324, 0.293, 0.426, 0.126), "Irinotecan": (0.683, 0.694, 0.626, 1.071, 0.107),
    "Nilotinib": (0.522, 0.521, 0.456, 0.525, 0.215), "Topotecan": (1.060, 1.013, 0.915, 1.468, 0.152),
    "17-AAG": (1.079, 0.933, 0.899, 1.108, 0.206), "LBW242": (0.375, 0.462, 0.500, 0.358, 0.140),
    "PHA-665752": (0.223, 0.225, 0.233, 0.241, 0.071), "PD-0325901": (1.716, 1.039, 1.230, 2.388, 0.268),
    "Lapatinib": (0.347, 0.298, 0.313, 0.448, 0.121), "PD-0332991": (0.287, 0.346, 0.288, 0.373, 0.118),
    "Nutlin-3": (0.268, 0.262, 0.245, 0.243, 0.123), "Paclitaxel": (1.651, 1.387, 1.091, 2.103, 0.256),
    "AZD0530": (0.693, 0.583, 0.611, 0.679, 0.178), "AZD6244": (1.048, 0.882, 0.974, 1.470, 0.210),
    "PF2341066": (0.314, 0.307, 0.291, 0.389, 0.156), "PLX4720": (0.510, 0.514, 0.334, 0.579, 0.226),
    "L-685458": (0.313, 0.290, 0.303, 0.376, 0.146), "RAF265": (0.569, 0.539, 0.521, 0.560, 0.100),
    "ZD-6474": (0.556, 0.569, 0.472, 0.576, 0.138), "TAE684": (0.724, 0.594, 0.593, 0.732, 0.162),
    "Panobinostat": (0.465, 0.457, 0.466, 0.736, 0.105), "TKI258": (0.420, 0.339, 0.299, 0.512, 0.157),
    "Sorafenib": (0.244, 0.218, 0.273, 0.238, 0.080), "Erlotinib": (0.355, 0.320, 0.341, 0.437, 0.121),
}


def paper_mse(drug, method):
    """The published test MSE of ``method`` (one of :data:`PAPER_METHODS`) on ``drug``, else None."""
    row = PAPER_TABLE1.get(drug)
    if row is None or method not in PAPER_METHODS:
        return None
    return row[PAPER_METHODS.index(method)]
