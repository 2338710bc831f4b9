// Wrapper module that builds the Mattermost server binary for the integration suite.
// Both Mattermost modules are pinned to one commit; see README.md before changing them.
// Never run `go mod tidy` here: it walks build-tagged enterprise imports that are private.
module egress-advisor/test/mattermost

go 1.24.11

require (
	github.com/mattermost/mattermost/server/public v0.1.22
	github.com/mattermost/mattermost/server/v8 v8.0.0-20260130160320-3321db82c3e7
)

// Replace directives of a dependency are ignored by Go, so the server's own ones are repeated
// here; without this one the build resolves an incompatible tablewriter.
replace github.com/olekukonko/tablewriter => github.com/olekukonko/tablewriter v0.0.5

// The server replaces msgpack with Mattermost's fork at v5.0.0-20260120151306-2f9c67d7e57f, which
// the module proxy reachable from the project's machines does not serve. Upstream v5.4.1 (the
// version the server requires) compiles in its place; the fork's change (MM-66167) was not examined.
replace github.com/vmihailenco/msgpack/v5 => github.com/vmihailenco/msgpack/v5 v5.4.1

// That proxy also serves the metadata of msoleps v1.0.5 but refuses its zip. The previous release
// compiles in its place; it only serves text extraction from Office attachments.
replace github.com/richardlehane/msoleps => github.com/richardlehane/msoleps v1.0.4

// Same reasoning for the exclude block of the public module.
exclude (
	github.com/RoaringBitmap/roaring v0.7.0
	github.com/RoaringBitmap/roaring v0.7.1
	github.com/dyatlov/go-opengraph v0.0.0-20210112100619-dae8665a5b09
	github.com/willf/bitset v1.2.0
)
