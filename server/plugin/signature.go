package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"
)

// The headers of a call the plugin forwards to the bridge. The bridge (server/http/signature.ts) recomputes
// the signature and refuses the call with 401 when it is missing, wrong or older than its window.
const (
	headerUser      = "X-Egress-Advisor-User"
	headerUsername  = "X-Egress-Advisor-Username"
	headerTimestamp = "X-Egress-Advisor-Timestamp"
	headerSignature = "X-Egress-Advisor-Signature"
)

// signatureDomain keeps these MACs apart from any other use of the same secret.
const signatureDomain = "egress-advisor/plugin-call/v1"

// caller is the Mattermost user a call is made for: the one Mattermost authenticated (Mattermost-User-Id)
// and their username, for the bridge to record who decided what. Empty for a call no user made.
type caller struct {
	ID       string
	Username string
}

// canonicalCall is what is signed: one field per line, the body by its digest.
func canonicalCall(method, pathAndQuery string, who caller, unixSeconds int64, body []byte) string {
	digest := sha256.Sum256(body)
	return signatureDomain + "\n" + method + "\n" + pathAndQuery + "\n" + who.ID + "\n" + who.Username + "\n" +
		strconv.FormatInt(unixSeconds, 10) + "\n" + hex.EncodeToString(digest[:])
}

// sign returns the hex HMAC-SHA256 of the canonical call under the shared secret.
func sign(secret, method, pathAndQuery string, who caller, unixSeconds int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(canonicalCall(method, pathAndQuery, who, unixSeconds, body)))
	return hex.EncodeToString(mac.Sum(nil))
}

// signRequest sets the signature headers on a request about to go to the bridge.
func signRequest(req *http.Request, secret string, who caller, now time.Time, body []byte) {
	ts := now.Unix()
	req.Header.Set(headerUser, who.ID)
	req.Header.Set(headerUsername, who.Username)
	req.Header.Set(headerTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(headerSignature, sign(secret, req.Method, req.URL.RequestURI(), who, ts, body))
}
