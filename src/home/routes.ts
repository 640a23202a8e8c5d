import { Router } from 'express';
import { renderPage } from '../web/render';

export function homeRoutes(): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    await renderPage(res, 'home/index', { title: req.t('home.title'), nav: 'dashboard' });
  });
  return router;
}
