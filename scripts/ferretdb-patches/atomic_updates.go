// Added to FerretDB v1.24.2 by support-gateway's scripts/ensure-ferretdb.sh.

package handler

import "sync"

// FerretDB applies an update (and a findAndModify) by reading the documents, changing them in memory and writing
// them back by _id, with no check that nobody wrote them in between: two updates of one document at the same
// time can undo each other (a lost $inc, a conditional update that matched a status another update had just
// changed). collectionLocks makes the read and the write of every update and findAndModify of one collection
// one step: they run one at a time per collection, in this process. Every client of one server (every gateway
// copy on one embedded database) goes through it, so updates are atomic between them, as on MongoDB. Inserts
// and deletes do not take it: a unique index decides between inserts, and writing back a deleted document
// changes nothing.
var collectionLocks sync.Map // "<db>.<collection>" -> *sync.Mutex

// lockCollectionForUpdate locks the collection's updates and returns the unlock.
func lockCollectionForUpdate(db, collection string) func() {
	mu, _ := collectionLocks.LoadOrStore(db+"."+collection, new(sync.Mutex))
	mu.(*sync.Mutex).Lock()

	return mu.(*sync.Mutex).Unlock
}
