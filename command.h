/*
 * command.h: the command loop (command.c) and the command handlers its
 * table names, each defined in the file of its command group.
 */
#ifndef COMMAND_H
#define COMMAND_H

struct arg;
struct mbstatus;

void	 command_serve(void);

/* command.c */
void	 command_out_caps(void);
int	 cmd_capability(struct arg *);
int	 cmd_enable(struct arg *);
int	 cmd_noop(struct arg *);
int	 cmd_logout(struct arg *);
int	 cmd_id(struct arg *);
/* auth.c */
int	 cmd_login(struct arg *);
int	 cmd_authenticate(struct arg *);
/* mailbox.c */
int	 cmd_select(struct arg *);
int	 cmd_examine(struct arg *);
int	 cmd_create(struct arg *);
int	 cmd_delete(struct arg *);
int	 cmd_rename(struct arg *);
int	 cmd_subscribe(struct arg *);
int	 cmd_unsubscribe(struct arg *);
int	 cmd_status(struct arg *);
int	 cmd_append(struct arg *);
/* mailbox.c: STATUS, which LIST's RETURN (STATUS ...) shares */
int	 mailbox_status_items(const struct arg *items);
int	 mailbox_status(const char *name, struct mbstatus *);
void	 mailbox_status_out(const char *name, const struct mbstatus *,
	    const struct arg *items);
/* list.c */
int	 cmd_list(struct arg *);
int	 cmd_lsub(struct arg *);
void	 list_selected(const char *name);
int	 cmd_namespace(struct arg *);
/* message.c */
int	 cmd_close(struct arg *);
int	 cmd_unselect(struct arg *);
int	 cmd_expunge(struct arg *);
int	 cmd_store(struct arg *);
int	 cmd_copy(struct arg *);
int	 cmd_move(struct arg *);
/* fetch.c */
int	 cmd_fetch(struct arg *);
/* search.c */
int	 cmd_search(struct arg *);
/* idle.c */
int	 cmd_idle(struct arg *);

#endif
