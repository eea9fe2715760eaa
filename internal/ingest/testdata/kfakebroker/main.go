// Command kfakebroker runs the in-memory Kafka-protocol broker (franz-go's
// kfake) on one loopback port until SIGTERM/SIGINT, for the ingest
// benchmark: the broker runs in its own process so that the CPU time of the
// ingest process can be measured alone.
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
	port := flag.Int("port", 19092, "port to listen on (127.0.0.1)")
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
