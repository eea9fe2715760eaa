// Command kfakebroker runs the in-memory Kafka-protocol broker (franz-go's
// kfake) on one loopback port until SIGTERM/SIGINT, for the benchmarks that
// measure the CPU time of one service alone: the broker runs in its own
// process (scripts/bench-ingest.sh, testkit.StartBroker). It prints the
// address it listens on as its first line.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	port := flag.Int("port", 19092, "port to listen on (127.0.0.1); 0 picks a free one")
	flag.Parse()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(*port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfakebroker:", err)
		os.Exit(1)
	}
	fmt.Println("kfakebroker listening on", c.ListenAddrs()[0])
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	c.Close()
}
