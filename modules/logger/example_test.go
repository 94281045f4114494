package logger_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/titanframework/titan/modules/logger"
)

// printRecords prints module, msg and the given keys of each JSON line.
func printRecords(buf *bytes.Buffer, keys ...string) {
	sc := bufio.NewScanner(buf)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			fmt.Println("not JSON:", sc.Text())
			continue
		}
		fmt.Print(rec["module"], " ", rec["msg"])
		for _, k := range keys {
			if v, ok := rec[k]; ok {
				fmt.Print(" ", k, "=", v)
			}
		}
		fmt.Println()
	}
}

func ExampleNew() {
	var buf bytes.Buffer
	l, err := logger.New(logger.Config{
		Format: logger.FormatJSON,
		Levels: map[string]string{"netron": "debug"},
	}, logger.WithWriter(&buf))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()

	l.For("netron").Debug("dial", "addr", "tcp://127.0.0.1:7070", "token", "s3cr3t")
	l.For("config").Debug("not shown: config is at the global level, info")
	l.For("config").Info("loaded")

	printRecords(&buf, "addr", "token")
	// Output:
	// netron dial addr=tcp://127.0.0.1:7070 token=[REDACTED]
	// config loaded
}

func ExampleNew_badConfig() {
	_, err := logger.New(logger.Config{Levels: map[string]string{"netron": "verbose"}})
	fmt.Println(err)
	// Output:
	// logger.levels.netron: unknown level "verbose" (want debug, info, warn or error)
}

func ExampleLogger_Apply() {
	var buf bytes.Buffer
	l, err := logger.New(logger.Config{Format: logger.FormatJSON}, logger.WithWriter(&buf))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()
	log := l.For("netron")

	log.Debug("hidden")
	if err := l.Apply(logger.Config{Format: logger.FormatJSON, Levels: map[string]string{"netron": "debug"}}); err != nil {
		fmt.Println(err)
		return
	}
	log.Debug("shown")

	printRecords(&buf)
	// Output:
	// netron shown
}
