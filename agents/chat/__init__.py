"""The KAM chat: questions about the caller's accounts, answered from the rule modules, the CRM and the
knowledge store, with every figure checked against what the tools computed and every statement cited."""
