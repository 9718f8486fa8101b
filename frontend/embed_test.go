package frontend

import (
	"io/fs"
	"os"
	"strings"
	"testing"
)

// TestDist checks that Dist matches what was built: nil before `npm run
// build`, and after it an FS whose index.html loads the app's own assets.
func TestDist(t *testing.T) {
	_, err := os.Stat("dist/index.html")
	built := err == nil
	d := Dist()
	if !built {
		if d != nil {
			t.Fatal("Dist() is not nil, but dist/index.html has not been built")
		}
		t.Skip("dist/index.html not built (run `npm run build` in frontend/); checked that Dist() is nil")
	}
	if d == nil {
		t.Fatal("Dist() is nil, but dist/index.html exists")
	}
	index, err := fs.ReadFile(d, "index.html")
	if err != nil {
		t.Fatalf("read index.html: %v", err)
	}
	if !strings.Contains(string(index), `src="./assets/`) {
		t.Errorf("index.html does not load its script from ./assets/:\n%s", index)
	}
	if strings.Contains(string(index), "<script>") {
		t.Error("index.html has an inline script, which the API's Content-Security-Policy blocks")
	}
	if _, err := fs.Stat(d, ".gitkeep"); err != nil {
		t.Errorf("dist/.gitkeep is missing after the build, so a fresh clone could not embed dist: %v", err)
	}
}
