package namenode

import (
	"context"
	"fmt"
	"net/http"

	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// SetSafeMode is ClientProtocol's setSafeMode (hdfs dfsadmin -safemode):
// get answers whether the NameNode is in safe mode; enter, leave and
// forceExit are the superuser's, and answer the same after acting. As
// Hadoop's: a checked call is one of the active's (get a READ, the others a
// WRITE: a standby refuses them), an unchecked one any NameNode's, which
// is how dfsadmin asks every NameNode of a nameservice in turn. A leave
// while replicas of blocks beyond the namespace's last are held is refused
// (the answer stays true and the NameNode logs why); forceExit deletes them.
func (n *NameNode) SetSafeMode(ctx context.Context, action hdfs.SafeModeAction, checked bool, user string) (bool, error) {
	if checked {
		category := "WRITE"
		if action == hdfs.SafeModeGet {
			category = "READ"
		}
		if s := n.State(); s != StateActive {
			return false, standbyError(category, s)
		}
	}
	if action != hdfs.SafeModeGet && !n.isSuperuser(user) {
		return false, fmt.Errorf("%w: Access denied for user %s. Superuser privilege is required", webhdfs.ErrPermission, user)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	switch action {
	case hdfs.SafeModeGet:
	case hdfs.SafeModeEnter:
		if !n.bm.InSafeMode() || n.bm.InStartupSafeMode() {
			n.logf("namenode %s: safe mode entered by %s", n.cfg.ID, user)
		}
		n.bm.EnterSafeMode()
	case hdfs.SafeModeLeave, hdfs.SafeModeForceExit:
		if !n.bm.InSafeMode() {
			break
		}
		lost := n.bm.BytesInFuture()
		if !n.bm.LeaveSafeMode(action == hdfs.SafeModeForceExit) {
			n.logf("namenode %s: refusing to leave safe mode for %s without a force flag: exiting it would delete %d byte(s) of blocks beyond the namespace's last; use -safemode forceExit if that data loss is acceptable", n.cfg.ID, user, lost)
			break
		}
		n.logf("namenode %s: safe mode left by %s (forced: %v, %d byte(s) of blocks from the future to delete)", n.cfg.ID, user, action == hdfs.SafeModeForceExit, lost)
	default:
		return false, fmt.Errorf("%w: unknown safe mode action %d", webhdfs.ErrIOException, action)
	}
	return n.bm.InSafeMode(), nil
}

// serveSafeMode is the signed POST /dfsadmin/safemode?action=get|enter|
// leave|forceExit of `hactl runtime dfsadmin -safemode`: the cluster
// secret's holder acts as the NameNode's own user, the superuser.
func (n *NameNode) serveSafeMode(w http.ResponseWriter, r *http.Request) {
	action, ok := hdfs.ParseSafeModeAction(r.URL.Query().Get("action"))
	if !ok {
		writeRemote(w, http.StatusBadRequest, "IllegalArgumentException", "java.lang.IllegalArgumentException",
			"action must be one of get, enter, leave, forceExit")
		return
	}
	on, err := n.SetSafeMode(r.Context(), action, false, n.cfg.Superuser)
	if err != nil {
		writeRemote(w, http.StatusInternalServerError, "IOException", "java.io.IOException", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"safemode": on})
}
