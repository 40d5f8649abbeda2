/* Persistent storage of the (emulated) TEE: one flat directory of small named files, each
 * replaced atomically. On OP-TEE this maps onto the secure storage API. */
#ifndef TEEHSM_TA_PORT_STORAGE_H
#define TEEHSM_TA_PORT_STORAGE_H

#include <stddef.h>
#include <stdint.h>

struct buf;

/* An open store directory (held exclusively by this process while open). */
struct port_store;

/* Return values of the port_store_* functions. */
enum {
	PORT_STORE_OK = 0,
	PORT_STORE_ERR = -1,   /* an I/O error, logged */
	PORT_STORE_NOENT = -2, /* no such file */
};

/* Longest file name accepted; names are [A-Za-z0-9_.-], not starting with '.'. */
#define PORT_STORE_NAME_MAX 64

/* Open (creating it 0700 when absent) the directory dir and lock it against other processes.
 * On PORT_STORE_OK *out owns the store; close it with port_store_close. */
int port_store_open(const char *dir, struct port_store **out);

/* Close a store and release its lock. Accepts NULL. */
void port_store_close(struct port_store *ps);

/* Read the whole file name, refusing files larger than max_len. On PORT_STORE_OK *out owns a
 * new buffer with the contents. Returns PORT_STORE_NOENT when the file does not exist. */
int port_store_read(struct port_store *ps, const char *name, size_t max_len, struct buf **out);

/* Replace file name with len bytes of data atomically: a crash at any instant leaves either the
 * old or the new contents (temp file, fsync, rename, fsync of the directory). */
int port_store_write(struct port_store *ps, const char *name, const void *data, size_t len);

/* Remove file name durably (unlink, fsync of the directory). PORT_STORE_NOENT if absent. */
int port_store_remove(struct port_store *ps, const char *name);

/* Rename file from to to (replacing to) atomically, but not yet durably: the new name survives a
 * crash only once port_store_sync has returned. PORT_STORE_NOENT when from does not exist. */
int port_store_rename(struct port_store *ps, const char *from, const char *to);

/* Make every rename and removal done so far durable (fsync of the directory). */
int port_store_sync(struct port_store *ps);

/* Call cb(name, arg) for each committed file of the store, in no particular order; temporary
 * files left by an interrupted write are removed instead. Stops and returns cb's value when it
 * is not 0; otherwise returns PORT_STORE_OK or PORT_STORE_ERR. */
int port_store_list(struct port_store *ps, int (*cb)(const char *name, void *arg), void *arg);

/* Load the device root key of len bytes from path, creating it (random bytes, mode 0600,
 * written atomically) when absent. Refuses a file of the wrong size, type, owner or with group
 * or other permissions. Returns 0 or -1 (logged); key is wiped on failure. */
int port_root_key_load(const char *path, uint8_t *key, size_t len);

#endif
