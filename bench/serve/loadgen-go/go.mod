module tailgraph/bench/serve/loadgen

go 1.22
