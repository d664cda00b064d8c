// An empty script: the floor that hook latency is measured against.
