// Added to FerretDB v1.24.2 by support-gateway's scripts/ensure-ferretdb.sh.

package handler

import (
	"context"
	"errors"
	"fmt"

	"github.com/FerretDB/FerretDB/internal/backends"
	"github.com/FerretDB/FerretDB/internal/handler/common"
	"github.com/FerretDB/FerretDB/internal/handler/handlererrors"
	"github.com/FerretDB/FerretDB/internal/handler/sjson"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/iterator"
	"github.com/FerretDB/FerretDB/internal/util/lazyerrors"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// updateByIDs runs an update command of several statements that each change one document named by its _id
// (filter `{_id: v, ...}`, no multi, no upsert, every _id a different one) with one query and one write
// transaction; the stock loop runs a query and a transaction per statement. Each statement is still applied
// by common.UpdateDocument with its whole filter, as the stock loop does. A statement that fails is reported
// as MongoDB reports it for ordered statements: a write error with that statement's index, the statements
// before it written, none after it (the stock loop reports index 0 whichever statement failed). For any other
// command it returns handled=false having done nothing, and the stock loop runs.
func (h *Handler) updateByIDs(ctx context.Context, c backends.Collection, params *common.UpdateParams) (matched, modified int32, handled bool, err error) {
	if len(params.Updates) < 2 || h.DisablePushdown {
		return 0, 0, false, nil
	}

	ids := types.MakeArray(len(params.Updates))
	keys := make([]string, len(params.Updates))

	for i, u := range params.Updates {
		if u.Multi || u.Upsert || u.Filter == nil {
			return 0, 0, false, nil
		}

		id, _ := u.Filter.Get("_id")

		key, ok := idKey(id)
		if !ok {
			return 0, 0, false, nil
		}

		for _, seen := range keys[:i] {
			if seen == key {
				return 0, 0, false, nil
			}
		}

		keys[i] = key
		ids.Append(id)
	}

	res, err := c.Query(ctx, &backends.QueryParams{Filter: must.NotFail(types.NewDocument("_id", must.NotFail(types.NewDocument("$in", ids))))})
	if err != nil {
		return 0, 0, true, lazyerrors.Error(err)
	}

	docs, err := iterator.ConsumeValues(res.Iter)
	if err != nil {
		return 0, 0, true, lazyerrors.Error(err)
	}

	byKey := make(map[string]*types.Document, len(docs))

	for _, doc := range docs {
		if key, ok := idKey(must.NotFail(doc.Get("_id"))); ok {
			byKey[key] = doc
		}
	}

	pending := &pendingUpdates{Collection: c}

	for i := range params.Updates {
		u := &params.Updates[i]

		var found []*types.Document
		if doc, ok := byKey[keys[i]]; ok {
			found = append(found, doc)
		}

		closer := iterator.NewMultiCloser()
		iter := common.FilterIterator(iterator.Values(iterator.ForSlice(found)), closer, u.Filter)
		result, err := common.UpdateDocument(ctx, pending, "update", iter, u)

		closer.Close()

		if err != nil {
			var refused *handlererrors.WriteErrors
			if !errors.As(err, &refused) {
				return 0, 0, true, lazyerrors.Error(err)
			}

			if err = pending.write(ctx); err != nil {
				return 0, 0, true, lazyerrors.Error(err)
			}

			indexed := new(handlererrors.WriteErrors)
			indexed.Merge(refused, int32(i))

			return matched, modified, true, indexed
		}

		matched += result.Matched.Count
		modified += result.Modified.Count
	}

	if err = pending.write(ctx); err != nil {
		return 0, 0, true, lazyerrors.Error(err)
	}

	return matched, modified, true, nil
}

// idKey tells _id values apart by type and value; only strings and ObjectIDs, the ones the SQLite backend
// finds through its _id index, are accepted.
func idKey(id any) (string, bool) {
	switch id.(type) {
	case string, types.ObjectID:
		return fmt.Sprintf("%T:%s", id, must.NotFail(sjson.MarshalSingleValue(id))), true
	default:
		return "", false
	}
}

// pendingUpdates keeps the documents that common.UpdateDocument writes, for one UpdateAll at the end.
type pendingUpdates struct {
	backends.Collection
	docs []*types.Document
}

// write writes the kept documents in one transaction.
func (p *pendingUpdates) write(ctx context.Context) error {
	if len(p.docs) == 0 {
		return nil
	}

	_, err := p.Collection.UpdateAll(ctx, &backends.UpdateAllParams{Docs: p.docs})

	return err
}

func (p *pendingUpdates) UpdateAll(_ context.Context, params *backends.UpdateAllParams) (*backends.UpdateAllResult, error) {
	p.docs = append(p.docs, params.Docs...)
	return &backends.UpdateAllResult{Updated: int32(len(params.Docs))}, nil
}
