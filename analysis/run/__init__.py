"""The run itself: the end-of-run summary and the checks made on a cluster."""
