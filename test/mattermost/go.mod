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
// here; without them the build resolves incompatible versions of these modules.
replace github.com/olekukonko/tablewriter => github.com/olekukonko/tablewriter v0.0.5

replace github.com/vmihailenco/msgpack/v5 => github.com/mattermost/msgpack/v5 v5.0.0-20260120151306-2f9c67d7e57f

// Same reasoning for the exclude block of the public module.
exclude (
	github.com/RoaringBitmap/roaring v0.7.0
	github.com/RoaringBitmap/roaring v0.7.1
	github.com/dyatlov/go-opengraph v0.0.0-20210112100619-dae8665a5b09
	github.com/willf/bitset v1.2.0
)
