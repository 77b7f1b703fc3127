package kinesisapi

// registerAttrs adds the operations on stream attributes: tags, stream mode,
// consumers, encryption, enhanced monitoring and limits. Until they are added,
// the model's other operations answer UnsupportedOperationException.
func (h *Handler) registerAttrs() {}
