'use strict';

// The newMessage payload, built here from the engine's positional fields
// (binding/convert.cc, newMessageToJs): an object literal gets its final shape
// in one allocation, which is several times cheaper than setting each
// property through Node-API, and newMessage comes by the thousand during a
// catch-up. Addresses arrive flat: [name, address, name, address, …].
function addressList(flat) {
  const list = new Array(flat.length >> 1);
  for (let i = 0; i < list.length; i++) list[i] = { name: flat[2 * i], address: flat[2 * i + 1] };
  return list;
}

function newMessage(accountId, folder, uid, uidValidity, seq, flags, size, internalDate, modseq,
  subject, from, sender, to, cc, bcc, replyTo, date, messageId, inReplyTo) {
  const m = {
    accountId,
    folder,
    uid,
    uidValidity,
    seq,
    flags,
    size,
    internalDate,
    envelope: {
      subject,
      from: addressList(from),
      sender: addressList(sender),
      to: addressList(to),
      cc: addressList(cc),
      bcc: addressList(bcc),
      replyTo: addressList(replyTo),
      date,
      messageId,
      inReplyTo,
    },
  };
  if (modseq !== undefined) m.modseq = modseq;
  return m;
}

module.exports = { newMessage };
