"""The registration gates, fixed in code so a pipeline run cannot lower them (they are not parameters).

The evaluate step and the pipeline's ConditionStep both read these numbers: the step to report which gate
failed and by how much, the condition to decide. A change here is a reviewed code change.
"""

from __future__ import annotations

# A challenger is registered only if its test AUC is at least this ...
AUC_FLOOR = 0.75
# ... and at least this much better than the current Approved champion's AUC on the same test set.
MIN_IMPROVEMENT = 0.005
