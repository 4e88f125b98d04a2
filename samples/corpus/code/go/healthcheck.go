// Command healthcheck probes the portal and the search API and exits non-zero when one is down.
package main

import (
	"fmt"
	"net/http"
	"os"
	"time"
)

// Target is one endpoint to probe.
type Target struct {
	Name string
	URL  string
}

var targets = []Target{
	{Name: "portal", URL: "https://portal.brightwater.example/healthz"},
	{Name: "search", URL: "https://search.brightwater.example/healthz"},
}

// probe returns nil when the endpoint answers 200 within the timeout.
func probe(client *http.Client, t Target) error {
	resp, err := client.Get(t.URL)
	if err != nil {
		return fmt.Errorf("%s: %w", t.Name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: status %d", t.Name, resp.StatusCode)
	}
	return nil
}

func main() {
	client := &http.Client{Timeout: 5 * time.Second}
	failed := 0
	for _, t := range targets {
		if err := probe(client, t); err != nil {
			fmt.Fprintln(os.Stderr, err)
			failed++
		}
	}
	if failed > 0 {
		os.Exit(1)
	}
	fmt.Println("all healthy")
}
