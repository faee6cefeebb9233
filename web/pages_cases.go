package web

func (s *Server) casePages() {}
