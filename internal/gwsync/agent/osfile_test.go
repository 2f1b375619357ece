package agent_test

import "os"

var osReadFile = os.ReadFile
